"""Table 2: a smaller receptive field at (nearly) the same computational cost.

Paper (ImageNet validation, top-1 accuracy, single frame):
  rf79    79x79 input, first conv stride 1, first max pooling removed   75.2%
  rf151   151x151 input, first conv stride 1, pooling kept             76.4%
  rf299   299x299 input, stride 2 and pooling (canonical)              76.6%
We print top-1 error (24.8%, 23.6%, 23.4%) beside ours.

Configs: `inception.rows` (RF299 = bn_auxiliary's network, whose run it
reuses; RF151 and RF79 change the stem and the input size).

Run:
  python experiments/table2.py                 # all three rows, small profile
  python experiments/table2.py --row rf79

Small profile: as Table 3 (Fashion-MNIST, 1,250 steps, depth 0.25), with the
smallest input each stem accepts, which keeps the grids after the stem equal:
75x75 (rf299), 39x39 (rf151), 21x21 (rf79). rf299 needs Table 3's
bn_auxiliary run (trained here if missing). About 5-6 minutes a trained row
on 2 CPU cores.

Results: runs/table2/README.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("table2")
