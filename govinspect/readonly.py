"""Admin pages that show records and never add, change or delete them (results, evidence, audit trails)."""


class ReadOnly:
    """Mixin for a ModelAdmin or an inline: no add, change or delete permission, whoever asks."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
