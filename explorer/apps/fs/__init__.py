"""ISO/IEC 7816-4 file system: `FileSystemAnalyzer` (key "fs") walks the MF, EF.DIR's
applications and the DFs it finds, decodes FCP/FCI/FMD templates and reads EFs, read-only."""

from explorer.apps.fs.analyzer import FileSystemAnalyzer
from explorer.apps.fs.walk import Options

__all__ = ["FileSystemAnalyzer", "Options"]
