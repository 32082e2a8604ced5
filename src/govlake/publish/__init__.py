"""Publishing from the warehouse: the portal's 双公示 views and their publicity rules
(:mod:`govlake.publish.publicity`)."""
