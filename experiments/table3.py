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
the one before; `inception.config.diff` shows what a row changes). Each step
is reported as its change against the row before, with Welch's 95% interval
over seeds, beside the paper's change, with a verdict.

Run:
  python experiments/table3.py --row all --seeds 5 --results_dir docs/results
  python experiments/table3.py --row bn_auxiliary        # the main job: one seed, < 10 min
  python experiments/table3.py --report                  # the table from docs/results
  python experiments/table3.py --profile imagenet --data imagenet  # the paper's setup

Small profile (`inception.profiles.small` states each change and why):
Fashion-MNIST, all 60,000 training images, 5 epochs of batch 128 (2,340
steps) with the paper's schedule and averaging compressed to that length,
input 75x75, depth multiplier 0.25; evaluation on the 10,000 test images.
About 7 minutes a seed on 2 idle CPU cores (398 s on an AMD EPYC Zen 5). Full profile: ImageNet, 100 epochs,
50 replicas of 32.

Results: docs/results/small/table3/<row>/seed_<k>.json; the table and curves
in docs/results/small/table3.md and RESULTS.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table3")
