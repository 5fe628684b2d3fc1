"""Follow and finish a sweep after the shell that started it is gone:
python src/sweep.py status SWEEP_FOLDER     # one row a point: done / running / pending / failed / not started
python src/sweep.py resume SWEEP_FOLDER     # resubmit the points that are not done, into their own folders
"""

import sys

from imdb_sentiment.cli import run_task
from imdb_sentiment.reporting.sweep_status import main

if __name__ == "__main__":
    run_task(main, sys.argv[1:])
