"""What the tests and the benchmarks both use, so that neither imports the other.

- ``workspace``: a scratch copy of the project, committed in a throwaway git repository
- ``server``: ``digits.serve`` (or the fake-model server) started as a process, and requests to it
- ``fake_server``: ``digits.serve`` with a fake model, for the tests of its limits and ``bench.serve_hostile``
- ``hostile_bodies``: request heads and bodies a hostile client sends
"""
