"""Search and places: finding assets near a place, and the places themselves.

nearby       the nearby search: its parameters, rules and answers (SQL in store/search.py)
parameters   reading query parameters, declared once, with errors that name the parameter
postcodes    UK postcodes: normalising, loading the ONS/Code-Point files, placing
"""
