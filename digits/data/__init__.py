"""The dataset: from a mirror or the user's folder to the split arrays the models train on.

- ``idx``: the IDX format, bytes in and arrays out
- ``download``: bounded downloads from a mirror; ``fetch``: placed files found, else downloaded, and verified
- ``prepare``: verified files to shuffled, split and sharded arrays
- ``arrays``: the split files (``.npz``) and the one preprocessing step shared by train, evaluate, predict and serve
"""
