# Turns a Python source file into a C array (cmake -P, called by wh_embed_python in
# CMakeLists.txt), so the Python that wsgihost runs lives in .py files that are linted, formatted
# and tested as Python. -DINPUT=file.py -DOUTPUT=file.c -DSYMBOL=c_name
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
     "/* Generated from pyglue/py/${name} by cmake/embed.cmake: edit that file instead. */\n"
     "extern const char ${SYMBOL}[];\n"
     "const char ${SYMBOL}[] = {${bytes}0x00};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
