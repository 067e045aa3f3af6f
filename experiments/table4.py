"""Table 4: one Inception-v3, multi-crop evaluation (softmax averaged over crops).

Paper (ImageNet validation; its column labels are swapped, the larger figure
is the top-1 error):
  crops12    12 crops     19.47% top-1 / 4.48% top-5
  crops144   144 crops    18.77% top-1 / 4.2%  top-5

Configs: `inception.rows` (CROPS12, CROPS144: bn_auxiliary with
`evaluation.crops`); no training of its own: the rows evaluate Table 3's
bn_auxiliary seed 0 (trained here if missing) with its moving-average weights,
and the same network with one crop on the same images, so the change is
paired image by image (bootstrap 95% interval over images).

Run:
  python experiments/table4.py --row all --results_dir docs/results
  python experiments/table4.py --report

Small profile: the crops are taken from the 28x28 Fashion-MNIST test images
resized; the first 2,000 test images are evaluated (144 crops of 2,000
images cost as much as one crop of 288,000). A few minutes on 2 CPU cores
once bn_auxiliary is trained.

Results: docs/results/small/table4/<row>/result.json (with per-image
correctness), the table in docs/results/small/table4.md and RESULTS.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table4")
