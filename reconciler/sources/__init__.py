"""Where image data and checksums come from: streamed and hashed reads of files and URLs,
decompression, checksum files and their signatures, upstream release tracking."""
