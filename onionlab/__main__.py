"""``python -m onionlab``: the ``onionlab`` command, for when the console script is not on PATH."""

from onionlab.crawler.commands import main

if __name__ == "__main__":
    main()
