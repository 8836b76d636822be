"""`python -m speechgraph` runs the command line."""

from speechgraph.cli import main

main()
