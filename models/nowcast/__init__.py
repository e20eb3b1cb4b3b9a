"""Nowcasting the current month from partial-month figures (the customs 10- and 20-day
flashes): how the full month relates to its first days (`ratio.py`, on working days from
`calendar.py`), and every path of a version conditioned on what that says (`condition.py`).
"""
