from django.contrib.auth import views as auth_views
from django.urls import path

from chat.views import chat_page

urlpatterns = [
    path("", chat_page, name="chat"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
