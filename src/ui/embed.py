#!/usr/bin/env python3
# embed.py OUT FILE...: writes OUT, a C file defining the seat-map page's
# static files (src/ui) as one table of (name, content type, bytes, length)
# that src/server/ui.c serves under /ui/ (the page needs nothing at run
# time but the binary). The content type follows the file's extension.
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
out, srcs = sys.argv[1], sys.argv[2:]
with open(out, "w") as f:
    f.write("/* generated from src/ui by embed.py: do not edit */\n")
    f.write('#include "server/ui.h"\n\n')
    names = []
    for i, src in enumerate(srcs):
        data = open(src, "rb").read()
        f.write("static const char file_%d[] = {\n" % i)
        for j in range(0, len(data), 20):
            f.write("".join("%d," % b for b in data[j:j + 20]) + "\n")
        f.write("0};\n")
        name = os.path.basename(src)
        names.append((name, TYPES[os.path.splitext(name)[1]], i, len(data)))
    f.write("\nconst struct hf_ui_file hf_ui_files[] = {\n")
    for name, ctype, i, n in names:
        f.write('\t{"%s", "%s", file_%d, %du},\n' % (name, ctype, i, n))
    f.write("};\nconst unsigned hf_ui_files_count = %d;\n" % len(names))
