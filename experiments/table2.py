"""Table 2: a smaller receptive field at (nearly) the same computational cost.

Paper (ImageNet validation, top-1 accuracy, single frame):
  rf79    79x79 input, first conv stride 1, first max pooling removed   75.2%
  rf151   151x151 input, first conv stride 1, pooling kept             76.4%
  rf299   299x299 input, stride 2 and pooling (canonical)              76.6%
We print top-1 error (24.8%, 23.6%, 23.4%) beside ours, and each row's change
against rf299 with its 95% interval (the paper: +0.2 and +1.4 points).

Configs: `inception.rows` (RF299 is bn_auxiliary's network, whose seeds it
reuses; RF151 and RF79 change the stem and the input size).

Run:
  python experiments/table2.py --row all --seeds 5 --results_dir docs/results
  python experiments/table2.py --row rf79                 # one seed, into runs/
  python experiments/table2.py --report                   # the table from docs/results

Small profile (`inception.profiles.small`): as Table 3's, with the smallest
input each stem accepts, which keeps the grids after the stem equal: 75x75
(rf299), 39x39 (rf151), 21x21 (rf79). About 7 minutes a seed on 2 idle CPU cores.

Results: docs/results/small/table2/<row>/seed_<k>.json; the table and curves
in docs/results/small/table2.md and RESULTS.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table2")
