"""Tables and plots of every run below the given folders:  python src/report.py logs/multiruns/<date>/<time> [...]"""

import sys

from imdb_sentiment.cli import run_task
from imdb_sentiment.reporting.report import main

if __name__ == "__main__":
    run_task(main, sys.argv[1:])
