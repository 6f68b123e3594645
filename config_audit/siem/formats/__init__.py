"""SIEM renderings of change records: ECS, Splunk HEC, RFC 5424 syslog, CEF.

Each renderer is pure: an `Entry` (record, its exact log line and its hash) in, bytes out.
"""
