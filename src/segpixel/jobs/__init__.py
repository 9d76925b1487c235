"""Jobs run beside the pixel (DESIGN.md "Jobs run beside, not inside, the pixel").

The API only stores an upload and records a job in the catalog's jobs table; a job runner process
(`segpixel jobs`, one of which `segpixel serve` starts beside its workers) claims it with a lease
(catalog/job_queue.py) and runs it with the job kind's code (`kinds.py`).
"""
