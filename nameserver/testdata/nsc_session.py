# Runs /usr/bin/pyro4-nsc once per command line given on stdin (one command
# per line, arguments separated by spaces), inside this one interpreter so
# that a long session costs one Python start-up. Prints "$ command" and the
# tool's output for each. The name server location in the output is shown
# as NSLOC, so sessions against different servers compare.
#
# usage: nsc_session.py HOST PORT < commands
import builtins
import contextlib
import io
import runpy
import sys

host, port = sys.argv[1], sys.argv[2]
builtins.input = lambda prompt="": "y"  # removematching asks for confirmation
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    buf = io.StringIO()
    sys.argv = ["pyro4-nsc", "-n", host, "-p", port] + line.split(" ")
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            runpy.run_path("/usr/bin/pyro4-nsc", run_name="__main__")
        except SystemExit as x:
            if x.code not in (None, 0):
                print("exit:", x.code)
    print("$", line)
    print(buf.getvalue().replace("%s:%s" % (host, port), "NSLOC"), end="")
