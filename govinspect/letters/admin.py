from django.contrib import admin

from .models import ImportBatch, Letter


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "channel", "imported_at", "rows_ok", "rows_bad")
    list_filter = ("channel",)
    readonly_fields = ("channel", "file_name", "imported_at", "rows_ok", "rows_bad", "errors", "warnings", "mapping")


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ("ref", "channel", "unit", "type", "title", "received", "replied")
    list_filter = ("channel", "type", "unit")
    search_fields = ("ref", "title", "content", "unit")
    date_hierarchy = "received"
