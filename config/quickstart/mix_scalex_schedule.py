# mix_scalex_schedule at the quickstart scale (recipe: config/methods/mix_scalex_schedule.py).
include("common.py")
include("../methods/mix_scalex_schedule.py")
