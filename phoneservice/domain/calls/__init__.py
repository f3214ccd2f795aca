"""Calls: AMI fields, the tracker, call records and the queue_log witness."""
