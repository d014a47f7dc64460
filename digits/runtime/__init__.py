"""How the code runs: the stage runner, the machine, the console and the disk.

- ``runner``: a stage run in its project with its params, errors as one line
- ``hardware``: precision, threads and the oneDNN ISA for this machine
- ``quiet``: TensorFlow without its start-up lines; ``storage``: atomic writes; ``pool``: worker processes
"""
