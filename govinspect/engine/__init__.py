"""Pure core: no Django imports, no ORM. Plain functions over plain data."""
