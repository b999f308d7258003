"""Feed formats: each module turns one kind of response body into nightdesk Snapshots."""
