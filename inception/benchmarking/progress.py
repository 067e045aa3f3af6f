"""Progress lines: a child process prints them, its parent relays them (`processes.run_phase`)."""

PREFIX = "[benchmark] "  # child stdout lines with this prefix are relayed by the parent


def progress(message: str) -> None:
    print(PREFIX + message, flush=True)
