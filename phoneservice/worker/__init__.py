"""The worker process: the leader wait, AMI followers, the originate dialer and the jobs."""
