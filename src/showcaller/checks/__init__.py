"""Speaker connection checks: is each speaker's picture and sound really arriving?"""
