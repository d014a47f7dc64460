"""Images to answers, shared by ``predict``, ``serve`` and stage ``read``.

- ``imagefile``, ``shrinking``: one image file decoded safely, bounded in bytes, pixels and time
- ``images``: any photo or drawing to MNIST's 28×28 form; ``sheet``: the paper under the ink (light, ruled lines)
- ``segment``: an image's ink to candidate digits; ``choice``: which partition of them is read
- ``reading``: one image read and answered; ``answers``: the typed ``Answer`` it gives (``as_json``, ``line``)
- ``streaming``: many files, batched per model call
- ``as_files``: the test set read as ``predict`` reads files (stage ``read``)
"""
