"""The one simulator of this process: SystemC keeps one kernel a process, so runs from several
threads (a Dask worker's, a user's) take turns."""

import threading

lock = threading.Lock()
