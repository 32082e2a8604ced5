"""Plays the department systems: writes their databases and exchange files. The pipeline never
imports this package; operators use it to demo, load-test and rehearse."""
