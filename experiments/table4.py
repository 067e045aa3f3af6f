"""Table 4: one Inception-v3, multi-crop evaluation (softmax averaged over crops).

Paper (ImageNet validation; its column labels are swapped, the larger figure
is the top-1 error):
  crops12    12 crops     19.47% top-1 / 4.48% top-5
  crops144   144 crops    18.77% top-1 / 4.2%  top-5

Configs: `inception.rows` (CROPS12, CROPS144: bn_auxiliary with
`evaluation.crops`); no training of its own: the rows evaluate Table 3's
bn_auxiliary run (trained here if missing) with its moving-average weights.

Run:
  python experiments/table4.py --row crops144

Small profile: the crops are taken from the 28x28 Fashion-MNIST test images
resized; only the first 250 test images are evaluated (144 crops of 250
images cost as much as one crop of 36,000); the result also gives the
single-crop error on the same 250 images. Under 2 minutes a row on 2 CPU
cores once bn_auxiliary is trained.

Results: runs/table4/README.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table4")
