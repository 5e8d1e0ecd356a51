# At the quickstart one data dir holds both transformed streams (translate_data.py).
include("translate_data.py")
