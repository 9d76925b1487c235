"""The `segpixel` command's groups, one module each (cli.py wires them and owns serve and init).

- `client`: the one HTTP client (the API over HTTP, or in-process on the data folder)
- `context`: which server a command talks to (login, SEGPIXEL_URL/SEGPIXEL_TOKEN, or local)
- `output`: tables, `--json`, error sentences and exit codes (0 ok, 1 refused, 2 usage)
- `common`: what the catalog groups share (the fields given, change one object, delete one)
- `login`, `segments`, `members`, `advertisers`, `users`, `usersync`, `jobs`, `reports`,
  `batch`, `export`: the commands
"""
