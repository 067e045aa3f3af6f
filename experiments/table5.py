"""Table 5: an ensemble of four Inception-v3 models, 144 crops each.

Paper (ImageNet validation): 17.2% top-1 / 3.58% top-5 error.

Config: `inception.rows` (ENSEMBLE4_CROPS144, ensemble=4). Member 0 is
Table 3's bn_auxiliary run; members 1-3 are the same config with seeds 1-3,
trained into runs/table5/ensemble4_crops144/member_<k>/. The softmax is
averaged over the 4 models and the 144 crops.

Run:
  python experiments/table5.py

Small profile: as Table 3 per member (about 4 minutes each on 2 idle CPU
cores), evaluated on the first 250 test images (4 x 144 crops each); the row
took 14.9 minutes with member 0 already trained by table3.py. The members'
single-crop errors give the seed-to-seed spread that any difference between
rows must exceed.

Results: runs/table5/README.md (with every member's training curve).
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table5")
