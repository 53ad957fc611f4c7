# Runs Pyro4's name server main (the entry point /usr/bin/pyro4-ns calls)
# with Python's own SIGINT handling restored, so that SIGINT stops it with
# "NS shut down." even when the test was started with SIGINT ignored.
import signal
import sys

signal.signal(signal.SIGINT, signal.default_int_handler)
from Pyro4.naming import main

sys.exit(main(sys.argv[1:]))
