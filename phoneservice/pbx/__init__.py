"""The PBX side: AMI protocol, client, event translation and a replay server."""
