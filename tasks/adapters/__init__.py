"""Side effects behind small interfaces: files written whole, mail (SMTP, Microsoft 365),
child processes."""
