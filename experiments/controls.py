"""The paper's control experiments, each Inception-v3 (`bn_auxiliary`) with one change.

Paper (what each section claims; figures where the paper gives them):
  figure2_linear      Figure 2 / section 3.1: the first layer of each factorized pair linear
                      instead of ReLU: 76.2% vs 77.2% top-1 accuracy, "always inferior".
  figure9_pool_first  Figure 9 (left) / section 5: pool, then the block at the reduced grid:
                      cheaper, but a representational bottleneck.
  figure9_conv_first  Figure 9 (right): the block at the full grid, then pool: about 3x the
                      cost of the reduction; Figure 10 (released) avoids both.
  asymmetric_35x35    Section 3.2: 1xn/nx1 factorization "does not work well on early
                      layers" (here: the 35x35 blocks).
  no_auxiliary        Section 4: without the auxiliary head: no faster early convergence,
                      a slightly lower plateau (Figure 8's held-out curves).

Configs: `inception.rows` (each derived from BN_AUXILIARY; `inception.config.diff`
shows the one field it changes). Costs: `python tools/model_cost.py`.

Run:
  python experiments/controls.py --row all --seeds 5 --results_dir docs/results
  python experiments/controls.py --row figure2_linear
  python experiments/controls.py --report               # tables from docs/results

Small profile: as Table 3's (`inception.profiles.small`); each control is
compared with bn_auxiliary's seeds (trained by Table 3), difference of means
with Welch's 95% interval. Results: docs/results/small/controls.md.
"""

import cli  # experiments/cli.py

if __name__ == "__main__":
    cli.main("controls")
