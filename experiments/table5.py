"""Table 5: an ensemble of four Inception-v3 models, 144 crops each.

Paper (ImageNet validation): 17.2% top-1 / 3.58% top-5 error, against 18.77%
for one model with 144 crops (Table 4).

Config: `inception.rows` (ENSEMBLE4_CROPS144, ensemble=4). The members are
seeds 0-3 of Table 3's bn_auxiliary (trained there, or here if missing); the
softmax is averaged over the 4 models and the 144 crops, and compared with
seed 0 alone with the same crops on the same images (paired bootstrap 95%
interval over images).

Run:
  python experiments/table5.py --row all --results_dir docs/results
  python experiments/table5.py --report

Small profile: the first 2,000 test images, 4 x 144 crops each; about 15
minutes of evaluation on 2 CPU cores once the members are trained.

Results: docs/results/small/table5/ensemble4_crops144/result.json, the table
in docs/results/small/table5.md and RESULTS.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table5")
