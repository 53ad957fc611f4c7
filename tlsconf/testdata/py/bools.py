# Pyro4's reading of PYRO_SSL for each argument: "<value> True|False" or
# "<value> ERR".
import os
import Pyro4.configuration

for v in __import__("sys").argv[1:]:
    os.environ["PYRO_SSL"] = v
    try:
        c = Pyro4.configuration.Configuration()
        print(repr(v), str(c.SSL).lower())
    except ValueError:
        print(repr(v), "ERR")
