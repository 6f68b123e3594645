"""The warm hook runner: git hooks answered by a fork of a process that has already imported
the tool, so a commit pays for the work, not for ~150 ms of imports per hook.

`client` is what `python -m config_audit hook NAME` runs first (standard library only);
`zygote` is the per-repository server (it never reads a request: each connection is handled
by a fresh fork, which holds the client's environment, and so any signing key, only while it
runs that one hook); `launch` starts it after a hook ran in-process.
"""
