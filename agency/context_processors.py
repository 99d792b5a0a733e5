from agency import permissions, selectors
from agency.notifications import notification_unread_count


def tenant(request):
    """The agency and the member's permissions, for the base layout and its navigation."""
    user = getattr(request, "user", None)
    context = {
        "agency": None,
        "membership": None,
        "has_several_agencies": bool(
            user is not None
            and user.is_authenticated
            and selectors.memberships_of_user(user)[1:2].exists()
        ),
    }
    membership = getattr(request, "membership", None)
    if membership is None:
        return context
    return {
        **context,
        "agency": request.agency,
        "membership": membership,
        "is_staff_member": membership.is_staff_member,
        "can_manage_users": permissions.can_manage_users(membership),
        "can_manage_brands": permissions.can_manage_brands(membership),
        "can_edit_agency_settings": permissions.can_edit_agency_settings(membership),
        "can_create_engagement": permissions.can_create_engagement(membership),
        "unread_notifications": notification_unread_count(user=request.user),
    }
