from django.contrib import admin

from itineraries.models import TripPlan


@admin.register(TripPlan)
class TripPlanAdmin(admin.ModelAdmin):
    """Plans are the planner's output: staff read them (support, monitoring)."""

    list_display = ("id", "__str__", "status", "created_at", "finished_at")
    list_filter = ("status",)
    date_hierarchy = "created_at"
    search_fields = ("id",)
    readonly_fields = [f.name for f in TripPlan._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
