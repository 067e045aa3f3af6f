"""RESULTS.md from the committed result files, without training.

    python experiments/report.py                  # docs/results -> RESULTS.md
    python experiments/report.py --results_dir runs/results --output runs/RESULTS.md

Every table, interval, verdict and curve comes from the result files
(`inception.report`); the page is never edited by hand.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("results_dir", "docs/results", "Where the result files are.")
flags.DEFINE_string("output", "RESULTS.md", "The page to write.")
flags.DEFINE_list("profiles", None, "The profiles whose tables the page shows (default: "
                  "inception.report.REPORTED_PROFILES, the current one first).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}.")
    from inception import profiles, report

    unknown = sorted(set(FLAGS.profiles or ()) - set(profiles.PROFILES))
    if unknown:
        raise app.UsageError(f"Unknown profile(s) {unknown}; valid profiles: {list(profiles.PROFILES)}.")
    text = report.results_markdown(FLAGS.results_dir, FLAGS.profiles or report.REPORTED_PROFILES)
    with open(FLAGS.output, "w") as f:
        f.write(text + "\n")
    print(f"Wrote {FLAGS.output}")


if __name__ == "__main__":
    app.run(main)
