#!/usr/bin/env python3
# embed.py IN OUT VAR: writes OUT, a C file defining `const char VAR[]` with
# the bytes of IN (the SQL files are compiled into the binary).
import sys
src, out, var = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by embed.py: do not edit */\n' % src.split('/')[-1])
    f.write('const char %s[] = {\n' % var)
    for i in range(0, len(data), 16):
        f.write(''.join('%d,' % b for b in data[i:i + 16]) + '\n')
    f.write('0};\n')
