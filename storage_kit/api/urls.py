from django.urls import path

from storage_kit.api import views

app_name = "storage_kit"
urlpatterns = [
    path("workspaces/", views.WorkspaceListCreate.as_view(), name="workspaces"),
    path("workspaces/<int:pk>/", views.WorkspaceDetail.as_view(), name="workspace"),
    path("workspaces/<int:pk>/teardown/", views.WorkspaceTeardown.as_view(), name="workspace-teardown"),
    path("forks/", views.ForkListCreate.as_view(), name="forks"),
    path("forks/<int:pk>/", views.ForkDetail.as_view(), name="fork"),
    path("forks/<int:pk>/teardown/", views.ForkTeardown.as_view(), name="fork-teardown"),
    path("checkpoints/", views.CheckpointListCreate.as_view(), name="checkpoints"),
    path("checkpoints/<int:pk>/", views.CheckpointDetail.as_view(), name="checkpoint"),
    path("checkpoints/<int:pk>/restore/", views.CheckpointRestore.as_view(), name="checkpoint-restore"),
    path("datasets/", views.DatasetList.as_view(), name="datasets"),
    path("datasets/<int:pk>/", views.DatasetDetail.as_view(), name="dataset"),
    path("coordinations/", views.CoordinationListCreate.as_view(), name="coordinations"),
    path("coordinations/<int:pk>/", views.CoordinationDetail.as_view(), name="coordination"),
    path(
        "coordinations/<int:pk>/teardown/",
        views.CoordinationTeardown.as_view(),
        name="coordination-teardown",
    ),
    path("deliveries/", views.DeliveryList.as_view(), name="deliveries"),
    path("deliveries/<int:pk>/", views.DeliveryDetail.as_view(), name="delivery"),
]
