"""The worker's scheduled jobs (APScheduler 3.x) and the lock that makes one worker active.

- ``triggers``: :class:`NextChangeTrigger`, which fires when a unit opens or closes;
- ``tasks``: the job functions and the named collaborators they call;
- ``scheduler``: :func:`build_scheduler`, its jobs and their job stores;
- ``leader``: :class:`LeaderLock`, one active worker per database.
"""
