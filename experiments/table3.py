"""Table 3: single-model, single-crop ablation, each row adding one change to the last.

Paper (ImageNet validation, top-1 / top-5 error, cost in billions of ops):
  inception_v2      Inception-v2 (7x7 stem)            23.4% / -    / 3.8
  rmsprop           + RMSProp                          23.1% / 6.3% / 3.8
  label_smoothing   + label smoothing                  22.8% / 6.1% / 3.8
  factorized_7x7    + the 7x7 factorized into 3x3s     21.6% / 5.8% / 4.8
  bn_auxiliary      + BN auxiliary (= Inception-v3)    21.2% / 5.6% / 4.8
  cited: GoogLeNet 29% / 9.2% / 1.5; BN-GoogLeNet 26.8% / - / 1.5;
         BN-Inception 25.2% / 7.8% / 2.0 (printed, not rerun)

Configs: `inception.rows` (INCEPTION_V2 ... BN_AUXILIARY, each derived from
the one before; `inception.config.diff` shows what a row changes).

Run:
  python experiments/table3.py                       # all five rows, small profile
  python experiments/table3.py --row label_smoothing # one row, < 10 min on 2 CPU cores
  python experiments/table3.py --profile imagenet --data imagenet  # the paper's setup

Small profile (`inception.rows.small`): Fashion-MNIST, 20,000 training images,
2 epochs of batch 32 (1,250 steps), input 75x75, depth multiplier 0.25,
BN momentum 0.99, EMA decay 0.999; evaluation on the 10,000 test images.
About 6-8 minutes a row on 2 (shared) CPU cores, data loading and evaluation
included. Full profile: ImageNet, 100 epochs, 50 replicas of 32: days on 50
GPUs.

Results: runs/table3/README.md (the table and curves.png, every row's curve).
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table3")
