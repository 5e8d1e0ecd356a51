# mix_scalex_schedule at the smoke scale (recipe: config/methods/mix_scalex_schedule.py).
include("common.py")
include("../methods/mix_scalex_schedule.py")
