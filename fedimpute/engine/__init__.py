"""The local imputation engine: a GA4GH WES server (sapporo) on 127.0.0.1 running cwltool directly."""
