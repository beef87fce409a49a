"""Rooms: the one owner of a game's life (created, join, leave, command, start, tick,
finish, dispose) and the immutable values its listeners receive."""
