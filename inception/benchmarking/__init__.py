"""The benchmark of this Inception-v3 against keras.applications.InceptionV3 (tools/benchmark.py).

One job a module:

    settings.py        Settings: what to run and how big (`Settings.quick()` for tests)
    timing.py          CPU seconds, interleaved rounds, step times inside `fit`, ratio summaries
    matmul.py          the machine's fp32, bf16 and int8 matrix-multiply rates
    throughput.py      images/s beside the matmul rates: fractions of peak, ceilings
    inference.py       the inference paths, a registry name -> builder, and their timing
    training.py        the training runs, a registry name -> builder, and their timing
    memory.py          peak resident memory of one path, read from /proc
    agreement.py       top-1 agreement of the fast paths with fp32 on Fashion-MNIST
    distribution.py    one global step on R replicas against R single-replica steps
    input_pipeline.py  the training input pipeline against the JPEG decoder alone, and its stages' costs
    backends.py        the small profile's training step per backend, oneDNN switch and dtype policy
    progress.py        the progress lines a child process prints for its parent
    phases.py          what a child process runs (`python -m inception.benchmarking.phases`)
    processes.py       running one phase in a fresh process: a backend, oneDNN on or off
    suite.py           every phase in order: `run_benchmark(settings)`
    report.py          the headline figures and the lines for the terminal

The package lives inside `inception` so that the tools and the child
processes import it as installed, without path edits.
"""
